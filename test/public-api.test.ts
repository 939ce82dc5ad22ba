/**
 * The package's public surface: what `import ... from 'wasmhive'` gives, and
 * what the `.d.ts` of its actor classes show. Both are lists written down
 * here, so that anything added to (or leaking into) the API is a decision
 * someone made, and every export carries a doc comment.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';

const OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  skipLibCheck: true,
  declaration: true,
  emitDeclarationOnly: true,
  stripInternal: true,
  rootDir: 'src',
  outDir: 'out',
};

const program = ts.createProgram(['src/index.ts'], OPTIONS);
const checker = program.getTypeChecker();
const root = checker.getSymbolAtLocation(program.getSourceFile('src/index.ts')!)!;

/** The declarations the build writes (with stripInternal, as tsconfig.build.json), by path under src. */
function declarations(): Map<string, string> {
  const out = new Map<string, string>();
  program.emit(undefined, (name, text) => out.set(name.replace(/^.*?out\//, ''), text), undefined, true);
  return out;
}

/** The public members of a class declared in a .d.ts text. */
function members(dts: string, cls: string): string[] {
  const sf = ts.createSourceFile('x.d.ts', dts, ts.ScriptTarget.ES2022, true);
  const names = new Set<string>();
  sf.forEachChild((n) => {
    if (!ts.isClassDeclaration(n) || n.name?.text !== cls) return;
    for (const m of n.members) {
      const mods = ts.canHaveModifiers(m) ? ts.getModifiers(m) : undefined;
      if (mods?.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.ProtectedKeyword)) continue;
      if (ts.isConstructorDeclaration(m)) names.add('constructor');
      else if (m.name !== undefined && !ts.isPrivateIdentifier(m.name)) names.add(m.name.getText(sf));
    }
  });
  return [...names].sort();
}

describe('the public API', () => {
  it('exports exactly the documented names from the package root', () => {
    const names = checker.getExportsOfModule(root).map((s) => s.name).sort();
    expect(names).toEqual(
      [
        'ABI_VERSION', 'ACTOR_SNAPSHOT_FORMAT', 'ActorError', 'ActorEvent', 'ActorExitedError', 'ActorInfo', 'ActorLimits', 'ActorOptions', 'ActorRef', 'ActorSchema',
        'Binding', 'BindingClock', 'BindingContext', 'BindingLogger', 'BindingRandom', 'CODE_VERSION', 'CallOptions', 'CallTimeoutError', 'ChildSpec', 'Clock',
        'CompileOptions', 'Completion', 'DEFAULT_ACTOR_LIMITS', 'DEFAULT_HIVE_LIMITS', 'DEFAULT_START_TIME', 'DeadLetter', 'DecodeError', 'Executor', 'Exhaustion', 'ExitEvent',
        'ExportValue', 'ExternCodec', 'FdState', 'Features', 'Func', 'FuncType', 'Global', 'GrowthBudget', 'Hive', 'HiveEvents',
        'HiveLimits', 'HiveOptions', 'HiveStateError', 'HostCall', 'HostCaller', 'HostFn', 'HostFunction', 'HostResult', 'I32HostFn', 'ImportValue', 'Imports', 'Inbox',
        'InboxOptions', 'InlineExecutor', 'InlineExecutorOptions', 'Instance', 'InstanceOptions', 'Kind', 'LimitError', 'LimitEvent', 'LinkError', 'LogLevel',
        'MailboxFullError', 'ManualClock', 'Memory', 'MemoryPool', 'MemoryPoolOptions', 'MemoryPoolStats', 'MessageDecodeError', 'MessageEncodeError', 'MessageTooLargeError', 'Module', 'ModuleDef', 'NameTakenError', 'NotFoundError',
        'Outcome', 'OutputSink', 'PID_EXT', 'Pid', 'ReadSnapshotOptions', 'Received', 'RestartEvent', 'RestoreActorOptions', 'RestoreOptions', 'ResumeInput',
        'Runnable', 'SNAPSHOT_FORMAT', 'Schema', 'SchemaError', 'SendOptions', 'SnapshotError', 'SnapshotInfo', 'SnapshotOptions', 'SpawnOptions', 'StackFrame',
        'PlacementRequest', 'WorkerPool', 'WorkerPoolOptions', 'WorkerUnavailableError',
        'StateError', 'Status', 'StdinSource', 'Strategy', 'Supervisor', 'SupervisorSpec', 'Suspend', 'SystemClock', 'Table', 'TimerHandle',
        'Trap', 'ValType', 'ValidationError', 'Value', 'ValueTypeName', 'Wasi', 'WasiExit', 'WasiIo', 'WasiOptions', 'WasiState',
        'WasiStateError', 'WasiStats', 'WasmError', 'bindingImports', 'checkSchema', 'compile', 'decode', 'decodeModule', 'disassemble', 'disassembleLowered', 'encode',
        'f32', 'f32FromBits', 'f32bits', 'f64', 'f64FromBits', 'f64bits', 'fromJs', 'funcOfJs', 'hostBinding', 'hostFunction',
        'i32', 'i64', 'instantiate', 'isNormalExit', 'readActorSnapshot', 'readSnapshot', 'restore', 'snapshot', 'snapshotAsync', 'snapshotHostState', 'toJs',
        'validateModule', 'warmUp',
        // Native services (issue 13): registration, the contract, the built-ins.
        'HostImports', 'RawHostFunction', 'WasiGrant', 'SERVICE_BASE', 'Service', 'ServiceContext', 'ServiceDefinition', 'ServiceError', 'ServiceHandlers', 'ServiceHost',
        'ServiceMethod', 'ServiceOptions', 'ServiceSchema', 'RequestOf', 'ResponseOf', 'defineService', 'isServiceDefinition',
        'kv', 'KvHandlers', 'KvOptions', 'KvStore', 'KvWrite', 'memoryKvStore', 'timer', 'TimerHandlers', 'TimerOptions', 'MAX_TIMER_MS',
        'http', 'HttpHandlers', 'HttpOptions', 'HttpRequest', 'HttpResponse',
        // Durable actors (issue 14): the stores and the hive's options.
        'DurableOptions', 'Store', 'JournalEntry', 'StoreError', 'StoreErrorCode', 'MAX_KEY_LENGTH', 'MAX_VALUE_BYTES', 'MemoryStore', 'FileStore', 'FileStoreOptions', 'NatsStore', 'NatsStoreOptions',
      ].sort(),
    );
  });

  it('gives every export a doc comment', () => {
    const undocumented: string[] = [];
    for (const s of checker.getExportsOfModule(root)) {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      const decls = target.getDeclarations() ?? [];
      const documented = decls.some((d) => ts.getJSDocCommentsAndTags(d).length > 0 || (ts.isVariableDeclaration(d) && ts.getJSDocCommentsAndTags(d.parent.parent).length > 0));
      if (!documented) undocumented.push(s.name);
    }
    expect(undocumented).toEqual([]);
  });

  it('writes declarations a user\'s project type-checks without skipLibCheck (nothing stripped as internal is still referred to)', () => {
    // Written under node_modules, where the declarations' own imports (pino, eventemitter3) resolve as in a user's project.
    const dir = join(process.cwd(), 'node_modules', '.cache', 'wasmhive-public-api');
    rmSync(dir, { recursive: true, force: true });
    const files: string[] = [];
    for (const [name, text] of declarations()) {
      const file = join(dir, name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      files.push(file);
    }
    const consumer = ts.createProgram(files, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, skipLibCheck: false, noEmit: true, types: ['node'] });
    const problems = ts.getPreEmitDiagnostics(consumer).map((x) => `${x.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(x.messageText, ' ')}`);
    rmSync(dir, { recursive: true, force: true });
    expect(problems).toEqual([]);
  });

  it('shows users the methods they call on hives, refs, inboxes and supervisors, and none of the system behind them', () => {
    const d = declarations();
    const hive = d.get('actors/hive.d.ts')!;
    const ref = d.get('actors/ref.d.ts')!;
    const sup = d.get('actors/supervisor.d.ts')!;
    expect(members(hive, 'Hive')).toEqual(['actorIds', 'checkpoint', 'clock', 'close', 'constructor', 'define', 'durable', 'emit', 'idle', 'inbox', 'logger', 'migrate', 'modules', 'passivate', 'recover', 'ref', 'restore', 'restoreGroup', 'service', 'snapshot', 'snapshotGroup', 'spawn', 'supervise', 'whereis', 'workerOf', 'workerService'].sort());
    expect(members(ref, 'ActorRef')).toEqual(['alive', 'call', 'exited', 'id', 'info', 'kill', 'name', 'send', 'sendWait', 'snapshot', 'stop', 'toString'].sort());
    expect(members(ref, 'Inbox')).toEqual(['close', 'id', 'maxMessages', 'next', 'receive', 'ref', 'size', '[Symbol.asyncIterator]'].sort());
    expect(members(sup, 'Supervisor')).toEqual(expect.arrayContaining(['child', 'id']));
    const svc = d.get('actors/service.d.ts')!;
    expect(members(svc, 'Service')).toEqual(['call', 'close', 'closed', 'name', 'queued', 'running'].sort());
    for (const internal of ['ServiceSystem', 'isServiceAddress', 'MAX_SERVICES', 'idempotent']) expect(`service: ${svc.includes(internal) ? internal : ''}`).toBe('service: ');
    // The system and the interfaces its parts declare stay out of the declarations users read.
    for (const [file, text] of [['hive', hive], ['ref', ref], ['supervisor', sup]] as const) {
      for (const internal of ['ActorSystem', 'systemOf', 'RefHost', 'SupervisorHost', 'allocId', 'addEndpoint', 'DurableActors', 'DurableHost']) {
        expect(`${file}: ${text.includes(internal) ? internal : ''}`).toBe(`${file}: `);
      }
    }
  });

  it('refuses, by type, a raw host import that returns what a guest cannot take (regression: `get: async (key: string) => \'v\'` type-checked as an import of pointers)', () => {
    const dir = join(process.cwd(), 'node_modules', '.cache', 'wasmhive-import-types');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'user.ts');
    const src = join(process.cwd(), 'src', 'index.js').replace(/\\/g, '/');
    writeFileSync(file, `import { Hive } from ${JSON.stringify(src)};
const hive = new Hive();
hive.spawn('a.wasm', { imports: { env: { add: (a: number, b: number) => a + b, wait: async (ms: number) => { void ms; }, wide: (x: bigint) => x } } });
hive.spawn('a.wasm', { imports: { env: { get: async (key: string) => 'v' } } });
hive.spawn('a.wasm', { imports: { env: { obj: () => ({ a: 1 }) } } });
`);
    const program = ts.createProgram([file], { ...OPTIONS, noEmit: true, declaration: false, emitDeclarationOnly: false, rootDir: undefined, outDir: undefined });
    const lines = ts.getPreEmitDiagnostics(program).filter((x) => x.file?.fileName === file).map((x) => x.file!.getLineAndCharacterOfPosition(x.start!).line + 1);
    rmSync(dir, { recursive: true, force: true });
    // Lines 4 and 5 (a string, an object) are refused; line 3 (numbers, a Promise of nothing, a bigint) is not.
    expect([...new Set(lines)].sort()).toEqual([4, 5]);
  });
});
