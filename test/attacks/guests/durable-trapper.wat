;; A durable actor's module that traps on every message it receives (the
;; host makes it with `hive.durable`, crash restarts on).
(module
  (import "hive" "receive" (func $receive (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (drop (call $receive (i32.const -1)))
    (unreachable)))
