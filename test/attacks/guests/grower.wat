;; Grows its memory a page at a time until refused (the actor's maxMemoryPages),
;; writes every byte of it (so the pages are really resident), then sleeps.
(module
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (loop $grow
      (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (memory.fill (i32.const 0) (i32.const 0xab) (i32.shl (memory.size) (i32.const 16)))
    (loop $again
      (call $sleep (i32.const 1000000))
      (br $again))))
