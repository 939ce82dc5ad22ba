;; A module whose start function burns about 10M fuel (just under the start
;; function's allowance), then whose main returns at once.
(module
  (memory (export "memory") 1)
  (global $sink (mut i32) (i32.const 0))
  (func $burn
    (local $i i32)
    (local.set $i (i32.const 2400000))
    (loop $again
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $again (local.get $i))))
  (func (export "main"))
  (start $burn))
