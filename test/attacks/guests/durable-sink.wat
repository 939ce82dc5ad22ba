;; The victim of the durable attacks: a durable actor's module (the host makes
;; it with `hive.durable`; a guest cannot). Init message: little-endian u32
;; words [sleepMs, idleMs, reportTo]. It sleeps `sleepMs` without receiving
;; (its mailbox fills; -1: it sleeps for ever), then receives for ever,
;; counting the messages (kind MESSAGE: sends and call requests, answered
;; never). Whenever a receive waits `idleMs` for nothing after it counted
;; more, it sends its count (u32 LE) to `reportTo` (0: nobody).
(module
  (import "hive" "read" (func $read (param i32 i32) (result i32)))
  (import "hive" "receive" (func $receive (param i32) (result i32)))
  (import "hive" "kind" (func $kind (result i32)))
  (import "hive" "send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $sleep i32) (local $idle i32) (local $to i32) (local $n i32) (local $told i32)
    (drop (call $read (i32.const 0) (i32.const 12)))
    (local.set $sleep (i32.load (i32.const 0)))
    (local.set $idle (i32.load (i32.const 4)))
    (local.set $to (i32.load (i32.const 8)))
    (if (i32.lt_s (local.get $sleep) (i32.const 0))
      (then (loop $forever (call $sleep (i32.const 1000000)) (br $forever))))
    (if (i32.gt_s (local.get $sleep) (i32.const 0)) (then (call $sleep (local.get $sleep))))
    (loop $again
      (if (i32.ge_s (call $receive (local.get $idle)) (i32.const 0))
        (then
          (if (i32.eqz (call $kind)) (then (local.set $n (i32.add (local.get $n) (i32.const 1))))))
        (else
          (if (i32.and (i32.ne (local.get $to) (i32.const 0)) (i32.ne (local.get $n) (local.get $told)))
            (then
              (i32.store (i32.const 16) (local.get $n))
              (drop (call $send (local.get $to) (i32.const 16) (i32.const 4) (i32.const 0)))
              (local.set $told (local.get $n))))))
      (br $again))))
