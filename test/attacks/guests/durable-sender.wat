;; Sends to (or calls) one actor as fast as it can until a time of the hive's
;; clock, counting what came back, then reports and sleeps for ever. Init
;; message: little-endian u32 words [to, mode, size, reportTo], then the end
;; time (i64 LE, ms of the hive's clock; 0: never) at byte 16.
;; - mode bit 0 clear: `send(to, msg, 0)`: OK once taken (for a durable
;;   actor: once journaled), FULL at once when there is no room; set:
;;   `call(to, msg, 0)`: TIMEOUT once the request is taken (timeout 0 waits
;;   for no answer), FULL when refused. Whatever comes back, it goes on,
;;   unless mode bit 1 is set and it is NOT_FOUND (the actor is gone): then
;;   it stops as at the end time.
;; - the message: `size` bytes of 0x5a (its memory grows to hold them).
;; - the report: u32 LE [taken, full, other] to `reportTo` (0: nobody),
;;   waiting for room.
(module
  (import "hive" "read" (func $read (param i32 i32) (result i32)))
  (import "hive" "send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "hive" "call" (func $call (param i32 i32 i32 i32) (result i32)))
  (import "hive" "now" (func $now (result i64)))
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $to i32) (local $mode i32) (local $size i32) (local $report i32) (local $end i64)
    (local $st i32) (local $taken i32) (local $full i32) (local $other i32)
    (drop (call $read (i32.const 0) (i32.const 24)))
    (local.set $to (i32.load (i32.const 0)))
    (local.set $mode (i32.load (i32.const 4)))
    (local.set $size (i32.load (i32.const 8)))
    (local.set $report (i32.load (i32.const 12)))
    (local.set $end (i64.load (i32.const 16)))
    ;; the message at 64
    (if (i32.gt_u (i32.add (local.get $size) (i32.const 64)) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $size) (i32.const 0x1003f)) (i32.const 16)) (memory.size))))))
    (memory.fill (i32.const 64) (i32.const 0x5a) (local.get $size))
    (block $done
      (loop $again
        (br_if $done (i32.and (i64.ne (local.get $end) (i64.const 0)) (i64.ge_s (call $now) (local.get $end))))
        (if (i32.eqz (i32.and (local.get $mode) (i32.const 1)))
          (then (local.set $st (call $send (local.get $to) (i32.const 64) (local.get $size) (i32.const 0))))
          (else
            (local.set $st (call $call (local.get $to) (i32.const 64) (local.get $size) (i32.const 0)))
            ;; taken: TIMEOUT (-1) is the OK of a call that waits for no answer
            (if (i32.eq (local.get $st) (i32.const -1)) (then (local.set $st (i32.const 0))))))
        (if (i32.eqz (local.get $st))
          (then (local.set $taken (i32.add (local.get $taken) (i32.const 1))))
          (else
            (if (i32.eq (local.get $st) (i32.const -3))
              (then (local.set $full (i32.add (local.get $full) (i32.const 1))))
              (else (local.set $other (i32.add (local.get $other) (i32.const 1)))))))
        (br_if $done (i32.and (i32.ne (i32.and (local.get $mode) (i32.const 2)) (i32.const 0)) (i32.eq (local.get $st) (i32.const -2))))
        (br $again)))
    (if (i32.ne (local.get $report) (i32.const 0))
      (then
        (i32.store (i32.const 32) (local.get $taken))
        (i32.store (i32.const 36) (local.get $full))
        (i32.store (i32.const 40) (local.get $other))
        (drop (call $send (local.get $report) (i32.const 32) (i32.const 12) (i32.const -1)))))
    (loop $forever
      (call $sleep (i32.const 1000000))
      (br $forever))))
