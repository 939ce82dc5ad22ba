;; Monitors itself in a loop: every monitor stays in its monitors map (nobody
;; exits, so no DOWN ever frees one).
(module
  (import "hive" "monitor" (func $monitor (param i32) (result i32)))
  (import "hive" "self" (func $self (result i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $me i32)
    (local.set $me (call $self))
    (loop $again
      (drop (call $monitor (local.get $me)))
      (br $again))))
