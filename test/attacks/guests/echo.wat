;; Answers every request with the id it came from, 4 bytes little-endian:
;; for a call, that is the id of the caller's fresh reply address, so the
;; caller learns where ids are being given out now.
(module
  (import "hive" "receive" (func $receive (param i32) (result i32)))
  (import "hive" "sender" (func $sender (result i32)))
  (import "hive" "reply" (func $reply (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (loop $again
      (drop (call $receive (i32.const -1)))
      (i32.store (i32.const 0) (call $sender))
      (drop (call $reply (i32.const 0) (i32.const 4)))
      (br $again))))
