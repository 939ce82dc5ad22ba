// Spins forever in main. Each turn increments the exported mutable global
// `spins` and stores it at a fixed place in memory (`spinsAddress`), so the
// loop has observable effects the optimizer must keep, and the host can see
// progress between slices.
export let spins: i64 = 0;

const cell = memory.data(8);

export function spinsAddress(): usize {
  return cell;
}

export function main(): void {
  while (true) {
    spins++;
    store<i64>(cell, spins);
  }
}
