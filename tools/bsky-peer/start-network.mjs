// Full local Bluesky network from @atproto/dev-env: PLC + PDS + AppView (bsky) + bsync + Ozone.
// Needs Postgres (DB_POSTGRES_URL) and Redis (REDIS_HOST). All servers forced onto 127.0.0.1.
// Started by bsky-peer.sh.
// Prints "READY {json}" when up. Env: PLC_PORT PDS_PORT BSKY_PORT OZONE_PORT (the other services take free ports).
import net from 'node:net'

const origListen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1')
  else if (typeof args[0] === 'object' && args[0] && args[0].port !== undefined && !args[0].host)
    args[0] = { ...args[0], host: '127.0.0.1' }
  return origListen.apply(this, args)
}

const { TestNetwork } = await import('@atproto/dev-env')
const t0 = Date.now()
const network = await TestNetwork.create({
  dbPostgresSchema: 'dev' + Date.now().toString().replace(/[0-9]/g, (c) => 'abcdefghij'[c]),
  plc: { port: Number(process.env.PLC_PORT ?? 2582) },
  pds: { port: Number(process.env.PDS_PORT ?? 2583), hostname: 'localhost', enableDidDocWithSession: true },
  bsky: { port: Number(process.env.BSKY_PORT ?? 2584), publicUrl: `http://localhost:${process.env.BSKY_PORT ?? 2584}` },
  ozone: {
    port: Number(process.env.OZONE_PORT ?? 2587),
    chatUrl: 'http://localhost:2590', chatDid: 'did:example:chat',
    dbMaterializedViewRefreshIntervalMs: 30_000,
  },
})
console.log('READY ' + JSON.stringify({
  plc: network.plc.url, pds: network.pds.url, bsky: network.bsky.url,
  bskyDid: network.bsky.ctx.cfg.serverDid, ozone: network.ozone.url,
  startup_ms: Date.now() - t0, node: process.version,
}))

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  const t = setTimeout(() => process.exit(1), 10_000)
  try { await network.close() } catch (e) { console.error(e) } finally { clearTimeout(t); process.exit(0) }
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
