// The SDK's entry point for a user's project: asc resolves
// `import { receive } from "wasmhive/guest/assemblyscript"` to this file in
// node_modules/wasmhive (it looks for <package>/<path>.ts, then
// <package>/<path>/index.ts). The raw imports are at
// "wasmhive/guest/assemblyscript/assembly/abi".
export * from "./assembly/index";
