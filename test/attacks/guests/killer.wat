;; Guesses pids: sends exit signals `kill` (untrappable) and `boom` to every
;; pid from 1 to its own pid + 64, over and over.
(module
  (import "hive" "self" (func $self (result i32)))
  (import "hive" "exit" (func $exit (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "kill")
  (data (i32.const 16) "boom")
  (func (export "main")
    (local $me i32) (local $pid i32)
    (local.set $me (call $self))
    (loop $sweep
      (local.set $pid (i32.const 1))
      (loop $each
        (if (i32.ne (local.get $pid) (local.get $me))
          (then
            (drop (call $exit (local.get $pid) (i32.const 16) (i32.const 4)))
            (drop (call $exit (local.get $pid) (i32.const 0) (i32.const 4)))))
        (local.set $pid (i32.add (local.get $pid) (i32.const 1)))
        (br_if $each (i32.le_s (local.get $pid) (i32.add (local.get $me) (i32.const 64)))))
      (br $sweep))))
