;; Logs 8 KiB lines at level info (30) as fast as it can.
(module
  (import "hive" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (memory.fill (i32.const 0) (i32.const 0x41) (i32.const 8192))
    (loop $again
      (call $log (i32.const 30) (i32.const 0) (i32.const 8192))
      (br $again))))
