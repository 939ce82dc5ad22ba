;; Spawns one module over and over, whatever status comes back. Its init
;; message says what: little-endian u32 words [max spawns (0: no end),
;; module name length, child init length (-1: none)], then the name, then the
;; child's init bytes. It traps exits (children that link to it and crash
;; must not end it) and drops whatever it receives; after `max` spawns it
;; sleeps. 17 pages: room for an init message of up to 1 MiB.
(module
  (import "hive" "read" (func $read (param i32 i32) (result i32)))
  (import "hive" "spawn" (func $spawn (param i32 i32 i32 i32 i32) (result i32)))
  (import "hive" "trap_exit" (func $trap_exit (param i32) (result i32)))
  (import "hive" "receive" (func $receive (param i32) (result i32)))
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 17)
  (func (export "main")
    (local $max i32) (local $nameLen i32) (local $initLen i32) (local $n i32)
    (drop (call $read (i32.const 0) (i32.const 0x110000)))
    (local.set $max (i32.load (i32.const 0)))
    (local.set $nameLen (i32.load (i32.const 4)))
    (local.set $initLen (i32.load (i32.const 8)))
    (drop (call $trap_exit (i32.const 1)))
    (block $done
      (loop $again
        (drop (call $spawn (i32.const 12) (local.get $nameLen)
          (i32.add (i32.const 12) (local.get $nameLen)) (local.get $initLen) (i32.const 0)))
        (drop (call $receive (i32.const 0)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $done (i32.eq (local.get $n) (local.get $max)))
        (br $again)))
    (loop $forever
      (call $sleep (i32.const 1000000))
      (br $forever))))
