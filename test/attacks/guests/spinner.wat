;; Spins for ever (a snapshot of it is taken out of fuel, in the loop).
(module
  (memory (export "memory") 1)
  (func (export "main")
    (loop $again (br $again))))
