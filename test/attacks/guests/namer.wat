;; Registers a 255-byte name unique to it ('a' x 247, then its pid in 8 hex
;; digits), then sleeps for ever.
(module
  (import "hive" "self" (func $self (result i32)))
  (import "hive" "register" (func $register (param i32 i32) (result i32)))
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $pid i32) (local $i i32) (local $d i32)
    (memory.fill (i32.const 0) (i32.const 0x61) (i32.const 247))
    (local.set $pid (call $self))
    (local.set $i (i32.const 0))
    (loop $digits
      (local.set $d (i32.and (i32.shr_u (local.get $pid) (i32.mul (local.get $i) (i32.const 4))) (i32.const 15)))
      (i32.store8 (i32.sub (i32.const 254) (local.get $i))
        (i32.add (local.get $d) (select (i32.const 48) (i32.const 87) (i32.lt_u (local.get $d) (i32.const 10)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $digits (i32.lt_u (local.get $i) (i32.const 8))))
    (drop (call $register (i32.const 0) (i32.const 255)))
    (loop $again
      (call $sleep (i32.const 1000000))
      (br $again))))
