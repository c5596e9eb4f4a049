// The guard on irreversible API calls (src/shared/irreversible.js): refused outside a confirmation,
// allowed from one (runConfirmed, which useConfirm's dialog uses), refused again after it.
// Run: node --test frontend/unit/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UNCONFIRMED, irreversible, runConfirmed } from '../src/shared/irreversible.js';

test('an irreversible call outside a confirmation is refused without reaching the server', async () => {
  const sent = [];
  const close = irreversible((cid, start) => {
    sent.push([cid, start]);
    return Promise.resolve('closed');
  });
  await assert.rejects(close(1, '2026-01-01'), (err) => err.code === 'unconfirmed' && err.detail === UNCONFIRMED);
  assert.deepEqual(sent, []);
  assert.equal(close.irreversible, true);
});

test('from a confirmation it goes through, awaited steps included; after it, refused again', async () => {
  const sent = [];
  const close = irreversible((cid) => {
    sent.push(cid);
    return Promise.resolve(cid);
  });
  const result = await runConfirmed(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return close(7);
  });
  assert.equal(result, 7);
  assert.deepEqual(sent, [7]);
  await assert.rejects(close(8));
  assert.deepEqual(sent, [7]);
});

test('a failed confirmed step releases the confirmation', async () => {
  const close = irreversible(() => Promise.resolve('ok'));
  await assert.rejects(runConfirmed(async () => {
    throw new Error('refused by the server');
  }));
  await assert.rejects(close(), (err) => err.code === 'unconfirmed');
});
