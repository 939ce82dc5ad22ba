;; Monitors one actor (its pid: the init message, u32 LE) and drops the
;; monitor at once, in a loop: it never holds more than one.
(module
  (import "hive" "read" (func $read (param i32 i32) (result i32)))
  (import "hive" "monitor" (func $monitor (param i32) (result i32)))
  (import "hive" "demonitor" (func $demonitor (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $to i32)
    (drop (call $read (i32.const 0) (i32.const 4)))
    (local.set $to (i32.load (i32.const 0)))
    (loop $again
      (drop (call $demonitor (call $monitor (local.get $to))))
      (br $again))))
