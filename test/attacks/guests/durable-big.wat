;; A durable actor's module with 16 MiB of state (the default maxMemoryPages,
;; 256): at start it grows its memory to 256 pages and fills them with random
;; bytes (incompressible, as data its users sent it could be), then receives
;; for ever, each message changing a word of it (so each is a new state to
;; checkpoint).
(module
  (import "hive" "random" (func $random (param i32 i32)))
  (import "hive" "receive" (func $receive (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $p i32) (local $n i32)
    (drop (memory.grow (i32.const 255)))
    (loop $fill
      (call $random (local.get $p) (i32.const 65536))
      (local.set $p (i32.add (local.get $p) (i32.const 65536)))
      (br_if $fill (i32.lt_u (local.get $p) (i32.const 0x1000000))))
    (loop $again
      (drop (call $receive (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (i32.store (i32.const 0) (local.get $n))
      (br $again))))
