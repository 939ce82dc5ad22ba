;; Sleeps for ever and never reads a message (its init message and mailbox
;; stay where they are).
(module
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (loop $again
      (call $sleep (i32.const 1000000))
      (br $again))))
