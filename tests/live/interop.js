#!/usr/bin/env node
// Interop test with npm's @grpc/grpc-js + @grpc/proto-loader (pure-JS HTTP/2, no gRPC
// core): loads the project's own .proto files and checks every case of the interop list
// against a running `sagasim live` orchestrator.
// usage: node interop.js GRPC_ADDR PROTO_DIR   (NODE_PATH must reach the two packages)
'use strict';
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');
const crypto = require('crypto');

const [addr, protoDir] = process.argv.slice(2);
const USER = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
const failures = [];
let passed = 0;
function check(name, cond, detail) {
  console.log((cond ? 'ok   ' : 'FAIL ') + name + (!cond && detail ? ': ' + detail : ''));
  if (cond) passed++; else failures.push(name);
}

const def = loader.loadSync('cbsaga/orchestrator/v1/orchestrator.proto',
  {includeDirs: [protoDir], keepCase: true, longs: String, defaults: true});
const pkg = grpc.loadPackageDefinition(def).cbsaga.orchestrator.v1;
const client = new pkg.OrchestratorService(addr, grpc.credentials.createInsecure());
const raw = new grpc.Client(addr, grpc.credentials.createInsecure());

function call(method, req) {
  return new Promise((resolve) => {
    const md = new grpc.Metadata();
    md.set('x-trace-id', 'js' + crypto.randomBytes(8).toString('hex'));
    const c = client[method](req, md, {deadline: Date.now() + 10000}, (err, res) => {
      resolve({err, res});
    });
    void c;
  });
}
function rawCall(path) {
  return new Promise((resolve) => {
    raw.makeUnaryRequest(path, (b) => b, (b) => b, Buffer.alloc(0),
      {deadline: Date.now() + 10000}, (err, res) => resolve({err, res}));
  });
}

async function main() {
  const key = 'js-' + crypto.randomUUID();
  const req = {user_id: USER, asset: 'BTC', amount_minor: '1000', destination_addr: 'addr-1',
               idempotency_key: key};
  const a = await call('CreateWithdrawal', req);
  check('create OK', !a.err && a.res.withdrawal_id.length === 36, String(a.err));
  const b = await call('CreateWithdrawal', req);
  check('exact retry -> same id', !b.err && b.res.withdrawal_id === a.res.withdrawal_id,
        String(b.err));
  const c = await call('CreateWithdrawal', {...req, amount_minor: '2000'});
  check('same key, other payload -> FAILED_PRECONDITION',
        c.err && c.err.code === grpc.status.FAILED_PRECONDITION, String(c.err));
  const d = await call('CreateWithdrawal', {...req, amount_minor: '-1', idempotency_key: 'js-bad'});
  check('invalid amount -> INVALID_ARGUMENT', d.err && d.err.code === grpc.status.INVALID_ARGUMENT,
        String(d.err));
  const e = await call('GetWithdrawal', {withdrawal_id: crypto.randomUUID()});
  check('unknown id -> NOT_FOUND', e.err && e.err.code === grpc.status.NOT_FOUND, String(e.err));
  const f = await rawCall('/cbsaga.orchestrator.v1.OrchestratorService/Nope');
  check('unknown method -> UNIMPLEMENTED', f.err && f.err.code === grpc.status.UNIMPLEMENTED,
        String(f.err));
  const h = await rawCall('/grpc.health.v1.Health/Check');
  check('health SERVING', !h.err && h.res.equals(Buffer.from([8, 1])), String(h.err));

  const dreq = {user_id: USER, asset: 'ETH', amount_minor: '5', destination_addr: 'addr-2',
                idempotency_key: 'js-dup-' + crypto.randomUUID()};
  const all = await Promise.all(Array.from({length: 16}, () => call('CreateWithdrawal', dreq)));
  const ids = new Set();
  const other = [];
  for (const r of all) {
    if (!r.err) ids.add(r.res.withdrawal_id);
    else if (r.err.code === grpc.status.ABORTED) {
      const t = r.err.metadata && r.err.metadata.get('x-withdrawal-id');
      if (t && t.length) ids.add(String(t[0]));
    } else other.push(r.err.code);
  }
  const last = await call('CreateWithdrawal', dreq);
  if (!last.err) ids.add(last.res.withdrawal_id);
  check('16 concurrent duplicates -> one id', ids.size === 1 && other.length === 0,
        `ids=${[...ids]} other=${other}`);

  let status = '';
  const end = Date.now() + 30000;
  while (Date.now() < end) {
    const g = await call('GetWithdrawal', {withdrawal_id: a.res.withdrawal_id});
    status = g.err ? String(g.err) : g.res.status;
    if (['COMPLETED', 'FAILED', 'CANCELED'].includes(status)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  check('withdrawal reaches COMPLETED', status === 'COMPLETED', status);
  console.log(`${passed} passed, ${failures.length} failed`);
  client.close();
  raw.close();
  process.exit(failures.length ? 1 : 0);
}
main().catch((err) => { console.error(err); process.exit(1); });
