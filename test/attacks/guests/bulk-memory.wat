;; Fills and copies its whole memory (256 pages, 16 MiB, the default maximum)
;; in a loop: each instruction is 16 MiB or 8 MiB of host work.
(module
  (memory (export "memory") 256)
  (func (export "main")
    (loop $again
      (memory.fill (i32.const 0) (i32.const 0x5a) (i32.const 16777216))
      (memory.copy (i32.const 0) (i32.const 8388608) (i32.const 8388608))
      (br $again))))
