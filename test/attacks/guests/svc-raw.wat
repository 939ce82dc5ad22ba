;; Drives the service ABI with bytes of the host's choosing (they need not be
;; MessagePack): for attacks that forge what a guest may put in a request.
;; Its init message, and then every message it receives, is one command:
;; little-endian u32 words [arg, reportTo, mode, len], then `len` bytes.
;;   mode 0: call(arg, bytes, -1)      mode 1: send(arg, bytes, -1)
;;   mode 2: lookup(bytes)             mode 3: spawn with flags `arg`, the
;;           bytes being [nameLen u32][name][child init] (child init of the
;;           rest, none when the rest is empty)
;; It then sends reportTo a message: the status or result (i32 LE) and, when
;; a call returned a size, the answer's bytes. A message of fewer than 16
;; bytes is dropped. It never exits.
(module
  (import "hive" "read" (func $read (param i32 i32) (result i32)))
  (import "hive" "size" (func $size (result i32)))
  (import "hive" "receive" (func $receive (param i32) (result i32)))
  (import "hive" "send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "hive" "call" (func $call (param i32 i32 i32 i32) (result i32)))
  (import "hive" "lookup" (func $lookup (param i32 i32) (result i32)))
  (import "hive" "spawn" (func $spawn (param i32 i32 i32 i32 i32) (result i32)))
  ;; Commands at 0 (64 KiB), the report at 65536 (64 KiB).
  (memory (export "memory") 2)
  (func $exec
    (local $arg i32) (local $report i32) (local $mode i32) (local $len i32) (local $st i32)
    (local $nameLen i32) (local $initLen i32) (local $n i32)
    (local.set $arg (i32.load (i32.const 0)))
    (local.set $report (i32.load (i32.const 4)))
    (local.set $mode (i32.load (i32.const 8)))
    (local.set $len (i32.load (i32.const 12)))
    (if (i32.eq (local.get $mode) (i32.const 0))
      (then (local.set $st (call $call (local.get $arg) (i32.const 16) (local.get $len) (i32.const -1)))))
    (if (i32.eq (local.get $mode) (i32.const 1))
      (then (local.set $st (call $send (local.get $arg) (i32.const 16) (local.get $len) (i32.const -1)))))
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then (local.set $st (call $lookup (i32.const 16) (local.get $len)))))
    (if (i32.eq (local.get $mode) (i32.const 3))
      (then
        (local.set $nameLen (i32.load (i32.const 16)))
        (local.set $initLen (i32.sub (i32.sub (local.get $len) (i32.const 4)) (local.get $nameLen)))
        (if (i32.eqz (local.get $initLen)) (then (local.set $initLen (i32.const -1))))
        (local.set $st (call $spawn (i32.const 20) (local.get $nameLen)
          (i32.add (i32.const 20) (local.get $nameLen)) (local.get $initLen) (local.get $arg)))))
    (i32.store (i32.const 65536) (local.get $st))
    (local.set $n (i32.const 0))
    (if (i32.and (i32.eqz (local.get $mode)) (i32.ge_s (local.get $st) (i32.const 0)))
      (then (local.set $n (call $read (i32.const 65540) (i32.const 65532)))))
    (drop (call $send (local.get $report) (i32.const 65536) (i32.add (i32.const 4) (local.get $n)) (i32.const -1))))
  (func (export "main")
    (if (i32.ge_s (call $size) (i32.const 16))
      (then
        (drop (call $read (i32.const 0) (i32.const 65536)))
        (call $exec)))
    (loop $again
      (if (i32.ge_s (call $receive (i32.const -1)) (i32.const 16))
        (then
          (drop (call $read (i32.const 0) (i32.const 65536)))
          (call $exec)))
      (br $again))))
