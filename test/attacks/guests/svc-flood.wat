;; Floods one service address with requests. Init message: little-endian u32
;; words [to, mode, timeout, count, then, hexAt, fillLen, reqLen], then the
;; request's `reqLen` bytes.
;; - mode 0: `call(to, request, timeout)`; mode 1: `send(to, request, timeout)`.
;;   Whatever status comes back, it goes on.
;; - count: requests to make (0: for ever); then `then`: 0 sleeps for ever
;;   (never reading a message), 1 receives for ever (dropping what comes), 2
;;   returns (the actor exits).
;; - hexAt (-1: none): the request's 8 bytes there are the request's number
;;   as 8 hex digits (distinct keys for kv).
;; - fillLen (0: none): a bin32 of `fillLen` bytes of 0x5a is appended to the
;;   request (a big value without a big init message).
;; Its memory grows to hold the request.
(module
  (import "hive" "read" (func $read (param i32 i32) (result i32)))
  (import "hive" "send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "hive" "call" (func $call (param i32 i32 i32 i32) (result i32)))
  (import "hive" "receive" (func $receive (param i32) (result i32)))
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $to i32) (local $mode i32) (local $timeout i32) (local $count i32) (local $then i32)
    (local $hexAt i32) (local $fill i32) (local $len i32) (local $need i32) (local $i i32)
    (local $at i32) (local $d i32) (local $k i32)
    (drop (call $read (i32.const 0) (i32.const 32)))
    (local.set $to (i32.load (i32.const 0)))
    (local.set $mode (i32.load (i32.const 4)))
    (local.set $timeout (i32.load (i32.const 8)))
    (local.set $count (i32.load (i32.const 12)))
    (local.set $then (i32.load (i32.const 16)))
    (local.set $hexAt (i32.load (i32.const 20)))
    (local.set $fill (i32.load (i32.const 24)))
    (local.set $len (i32.load (i32.const 28)))
    ;; room for the header, the request and the appended bin32
    (local.set $need (i32.add (i32.add (i32.const 37) (local.get $len)) (local.get $fill)))
    (if (i32.gt_u (local.get $need) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $need) (i32.const 0xffff)) (i32.const 16)) (memory.size))))))
    (drop (call $read (i32.const 0) (i32.add (i32.const 32) (local.get $len))))
    (if (i32.gt_s (local.get $fill) (i32.const 0))
      (then
        (local.set $at (i32.add (i32.const 32) (local.get $len)))
        (i32.store8 (local.get $at) (i32.const 0xc6))
        (i32.store8 (i32.add (local.get $at) (i32.const 1)) (i32.shr_u (local.get $fill) (i32.const 24)))
        (i32.store8 (i32.add (local.get $at) (i32.const 2)) (i32.shr_u (local.get $fill) (i32.const 16)))
        (i32.store8 (i32.add (local.get $at) (i32.const 3)) (i32.shr_u (local.get $fill) (i32.const 8)))
        (i32.store8 (i32.add (local.get $at) (i32.const 4)) (local.get $fill))
        (memory.fill (i32.add (local.get $at) (i32.const 5)) (i32.const 0x5a) (local.get $fill))
        (local.set $len (i32.add (local.get $len) (i32.add (i32.const 5) (local.get $fill))))))
    (block $done
      (loop $again
        (if (i32.ge_s (local.get $hexAt) (i32.const 0))
          (then
            (local.set $k (i32.const 0))
            (loop $digit
              (local.set $d (i32.and (i32.shr_u (local.get $i) (i32.shl (i32.sub (i32.const 7) (local.get $k)) (i32.const 2))) (i32.const 15)))
              (i32.store8 (i32.add (i32.add (i32.const 32) (local.get $hexAt)) (local.get $k))
                (select (i32.add (local.get $d) (i32.const 48)) (i32.add (local.get $d) (i32.const 87)) (i32.lt_u (local.get $d) (i32.const 10))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $digit (i32.lt_u (local.get $k) (i32.const 8))))))
        (if (i32.eqz (local.get $mode))
          (then (drop (call $call (local.get $to) (i32.const 32) (local.get $len) (local.get $timeout))))
          (else (drop (call $send (local.get $to) (i32.const 32) (local.get $len) (local.get $timeout)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $done (i32.and (i32.ne (local.get $count) (i32.const 0)) (i32.eq (local.get $i) (local.get $count))))
        (br $again)))
    (if (i32.eq (local.get $then) (i32.const 2)) (then (return)))
    (if (i32.eq (local.get $then) (i32.const 1))
      (then (loop $drain (drop (call $receive (i32.const -1))) (br $drain))))
    (loop $forever
      (call $sleep (i32.const 1000000))
      (br $forever))))
