;; Monitors pids that do not exist, a new one each time, and never receives:
;; each monitor is answered at once with a DOWN `noproc` for its signal queue.
(module
  (import "hive" "monitor" (func $monitor (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $pid i32)
    (local.set $pid (i32.const 1000000))
    (loop $again
      (drop (call $monitor (local.get $pid)))
      (local.set $pid (i32.add (local.get $pid) (i32.const 1)))
      (br $again))))
