import { storeContract } from './contract.test-helper.js';
import { MemoryStore } from './memory.js';

storeContract('MemoryStore', {
  persistent: false,
  fresh: async () => {
    const store = new MemoryStore();
    return { open: async () => store };
  },
});
