;; Grows its own signal queue (monitors of pids that do not exist, never
;; received) and calls `demonitor` with a reference that matches nothing, so
;; each call looks through the whole queue.
(module
  (import "hive" "monitor" (func $monitor (param i32) (result i32)))
  (import "hive" "demonitor" (func $demonitor (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $pid i32)
    (local.set $pid (i32.const 2000000))
    (loop $again
      (drop (call $monitor (local.get $pid)))
      (drop (call $demonitor (i32.const 0x7fffffff)))
      (local.set $pid (i32.add (local.get $pid) (i32.const 1)))
      (br $again))))
