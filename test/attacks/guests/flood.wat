;; Sends messages as fast as it can, without waiting (timeout 0), round robin
;; to the pids of its init message: little-endian u32 words [size, count,
;; pid...], where pid 0 means itself. Whatever status comes back (FULL,
;; NOT_FOUND, a limit), it keeps sending. Messages are `size` bytes (at most
;; 1 MiB) of 0x5a, the buffer at 64 KiB.
(module
  (import "hive" "read" (func $read (param i32 i32) (result i32)))
  (import "hive" "self" (func $self (result i32)))
  (import "hive" "send" (func $send (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 18)
  (func (export "main")
    (local $size i32) (local $count i32) (local $i i32) (local $to i32)
    (drop (call $read (i32.const 0) (i32.const 1024)))
    (local.set $size (i32.load (i32.const 0)))
    (local.set $count (i32.load (i32.const 4)))
    (memory.fill (i32.const 65536) (i32.const 0x5a) (local.get $size))
    (loop $again
      (local.set $to (i32.load (i32.add (i32.const 8) (i32.shl (local.get $i) (i32.const 2)))))
      (if (i32.eqz (local.get $to)) (then (local.set $to (call $self))))
      (drop (call $send (local.get $to) (i32.const 65536) (local.get $size) (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.ge_u (local.get $i) (local.get $count)) (then (local.set $i (i32.const 0))))
      (br $again))))
