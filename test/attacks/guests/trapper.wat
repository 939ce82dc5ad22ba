;; A victim that traps exits and never receives: exit signals sent to it
;; wait in its signal queue.
(module
  (import "hive" "trap_exit" (func $trap_exit (param i32) (result i32)))
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (drop (call $trap_exit (i32.const 1)))
    (loop $again
      (call $sleep (i32.const 1000000))
      (br $again))))
