;; Spawns one module `max` times with spawn flags of its choosing (2 =
;; SERVICES: the children get its services), retrying a refused spawn (LIMIT
;; while the tree's init messages wait) after 1 ms. Init message:
;; little-endian u32 words [max, flags, nameLen, initLen (-1: none)], then the
;; name, then the children's init bytes. Then it receives for ever, dropping
;; what comes. Its memory grows to hold the init message.
(module
  (import "hive" "read" (func $read (param i32 i32) (result i32)))
  (import "hive" "size" (func $size (result i32)))
  (import "hive" "spawn" (func $spawn (param i32 i32 i32 i32 i32) (result i32)))
  (import "hive" "receive" (func $receive (param i32) (result i32)))
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $max i32) (local $flags i32) (local $nameLen i32) (local $initLen i32) (local $n i32) (local $need i32)
    (local.set $need (call $size))
    (if (i32.gt_u (local.get $need) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $need) (i32.const 0xffff)) (i32.const 16)) (memory.size))))))
    (drop (call $read (i32.const 0) (local.get $need)))
    (local.set $max (i32.load (i32.const 0)))
    (local.set $flags (i32.load (i32.const 4)))
    (local.set $nameLen (i32.load (i32.const 8)))
    (local.set $initLen (i32.load (i32.const 12)))
    (block $done
      (loop $again
        (br_if $done (i32.ge_u (local.get $n) (local.get $max)))
        (if (i32.gt_s (call $spawn (i32.const 16) (local.get $nameLen)
              (i32.add (i32.const 16) (local.get $nameLen)) (local.get $initLen) (local.get $flags))
              (i32.const 0))
          (then (local.set $n (i32.add (local.get $n) (i32.const 1))))
          (else (call $sleep (i32.const 1))))
        (br $again)))
    (loop $forever
      (drop (call $receive (i32.const -1)))
      (br $forever))))
