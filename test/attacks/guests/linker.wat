;; Links to every pid from 1 to its own pid + 64, then crashes (unreachable):
;; each actor it linked to gets an exit signal with reason "trap: unreachable".
(module
  (import "hive" "self" (func $self (result i32)))
  (import "hive" "link" (func $link (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $me i32) (local $pid i32)
    (local.set $me (call $self))
    (local.set $pid (i32.const 1))
    (loop $each
      (if (i32.ne (local.get $pid) (local.get $me)) (then (drop (call $link (local.get $pid)))))
      (local.set $pid (i32.add (local.get $pid) (i32.const 1)))
      (br_if $each (i32.le_s (local.get $pid) (i32.add (local.get $me) (i32.const 64)))))
    unreachable))
