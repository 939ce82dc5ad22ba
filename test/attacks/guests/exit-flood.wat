;; Sends exit signals in a loop to two actors that trap exits: its own child
;; (spawned from the module "trapper") and the host's trapper, whose pid is
;; the init message (4 bytes, little-endian). It lets its child start (and
;; trap exits) first. Whatever status comes back, it keeps sending.
(module
  (import "hive" "read" (func $read (param i32 i32) (result i32)))
  (import "hive" "spawn" (func $spawn (param i32 i32 i32 i32 i32) (result i32)))
  (import "hive" "exit" (func $exit (param i32 i32 i32) (result i32)))
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "trapper")
  (data (i32.const 32) "not today")
  (func (export "main")
    (local $victim i32) (local $child i32)
    (drop (call $read (i32.const 0) (i32.const 4)))
    (local.set $victim (i32.load (i32.const 0)))
    (local.set $child (call $spawn (i32.const 16) (i32.const 7) (i32.const 0) (i32.const -1) (i32.const 0)))
    (call $sleep (i32.const 20))
    (loop $again
      (drop (call $exit (local.get $child) (i32.const 32) (i32.const 9)))
      (drop (call $exit (local.get $victim) (i32.const 32) (i32.const 9)))
      (br $again))))
