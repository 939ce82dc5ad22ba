;; Calls in a loop with a 1 ms timeout: the sink whose pid is the init
;; message (4 bytes LE), which never answers, and a pid that does not exist.
;; Each call opens a reply address that the timeout (or the refusal) must
;; close.
(module
  (import "hive" "read" (func $read (param i32 i32) (result i32)))
  (import "hive" "call" (func $call (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $sink i32)
    (drop (call $read (i32.const 0) (i32.const 4)))
    (local.set $sink (i32.load (i32.const 0)))
    (loop $again
      (drop (call $call (local.get $sink) (i32.const 64) (i32.const 16) (i32.const 1)))
      (drop (call $call (i32.const 0x7ffffff0) (i32.const 64) (i32.const 16) (i32.const 1)))
      (br $again))))
