;; The module of the snapshot benchmark: a memory the benchmark fills from
;; the host (1, 16 or 64 MiB), and a loop to pause in, so that the snapshot
;; holds a paused call and not only an idle instance.
(module
  (memory (export "memory") 1 1024)
  (global $n (mut i32) (i32.const 0))
  (func (export "grow") (param $pages i32) (result i32)
    (memory.grow (local.get $pages)))
  (func $spin (export "spin")
    (loop $l
      (global.set $n (i32.add (global.get $n) (i32.const 1)))
      (br $l))))
