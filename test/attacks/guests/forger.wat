;; Forges replies: sends a plausible answer (MessagePack "value=-1") to a
;; window of 64 ids around where ids are being given out now, over and over.
;; It learns that place as the ABI lets anyone: it calls its own child "echo",
;; which answers with the id of the call's fresh reply address. Whatever the
;; statuses, it keeps going.
(module
  (import "hive" "spawn" (func $spawn (param i32 i32 i32 i32 i32) (result i32)))
  (import "hive" "call" (func $call (param i32 i32 i32 i32) (result i32)))
  (import "hive" "read" (func $read (param i32 i32) (result i32)))
  (import "hive" "send" (func $send (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; fixstr of 8 bytes: 0xa8 "value=-1"
  (data (i32.const 0) "\a8value=-1")
  (data (i32.const 16) "echo")
  (func (export "main")
    (local $echo i32) (local $front i32) (local $id i32)
    (local.set $echo (call $spawn (i32.const 16) (i32.const 4) (i32.const 0) (i32.const -1) (i32.const 0)))
    (loop $sweep
      ;; where ids are now (kept from the last sweep if the call failed)
      (if (i32.ge_s (call $call (local.get $echo) (i32.const 0) (i32.const 1) (i32.const 1000)) (i32.const 4))
        (then
          (drop (call $read (i32.const 32) (i32.const 4)))
          (local.set $front (i32.load (i32.const 32)))))
      (local.set $id (select (i32.sub (local.get $front) (i32.const 16)) (i32.const 1) (i32.gt_s (local.get $front) (i32.const 17))))
      (loop $window
        (drop (call $send (local.get $id) (i32.const 0) (i32.const 9) (i32.const 0)))
        (local.set $id (i32.add (local.get $id) (i32.const 1)))
        (br_if $window (i32.lt_s (local.get $id) (i32.add (local.get $front) (i32.const 48)))))
      (br $sweep))))
