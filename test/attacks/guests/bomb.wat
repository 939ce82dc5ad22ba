;; A spawn bomb: spawns copies of itself (module "bomb") for ever; each copy
;; does the same. Failed spawns are retried.
(module
  (import "hive" "spawn" (func $spawn (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "bomb")
  (func (export "main")
    (loop $again
      (drop (call $spawn (i32.const 0) (i32.const 4) (i32.const 0) (i32.const -1) (i32.const 0)))
      (br $again))))
