// The world of bench/node_keepalive/run.sh, served by Node's own HTTP server.
// An ActivityPub world on Node's own HTTP server: N accounts on each of H hosts, the seed on
// the first host follows every account; keep-alive closed by Node's own timer.
const http = require('http');
const port = +process.argv[2], hosts = +process.argv[3], per = +process.argv[4];
const kat = +(process.argv[5] || 5000);
const names = [...Array(hosts).keys()].map(i => `h${i}.example`);
const base = h => `http://${h}:${port}`;
const all = [];
for (const h of names) for (let i = 0; i < per; i++) all.push([h, `u${i}`]);
let served = 0;
const json = (res, code, body, type) => { res.writeHead(code, {'content-type': type || 'application/activity+json'}); res.end(JSON.stringify(body)); };
const server = http.createServer((req, res) => {
  served++;
  const host = (req.headers.host || '').split(':')[0];
  const u = new URL(req.url, base(host));
  const p = u.pathname;
  if (p === '/robots.txt') { res.writeHead(404); return res.end(); }
  if (p === '/.well-known/webfinger') {
    const m = /^acct:([^@]+)@(.+)$/.exec(u.searchParams.get('resource') || '');
    if (!m || m[2] !== host) { res.writeHead(404); return res.end(); }
    return json(res, 200, {subject: `acct:${m[1]}@${host}`, links: [{rel: 'self', type: 'application/activity+json', href: `${base(host)}/users/${m[1]}`}]}, 'application/jrd+json');
  }
  if (p === '/.well-known/nodeinfo') return json(res, 200, {links: [{rel: 'http://nodeinfo.diaspora.software/ns/schema/2.0', href: `${base(host)}/nodeinfo/2.0`}]}, 'application/json');
  if (p === '/nodeinfo/2.0') return json(res, 200, {version: '2.0', software: {name: 'nodetest', version: '1'}, protocols: ['activitypub'], usage: {users: {total: per}}, openRegistrations: false, services: {inbound: [], outbound: []}, metadata: {}}, 'application/json');
  let m = /^\/users\/([^/]+)(\/following)?$/.exec(p);
  if (m) {
    const id = `${base(host)}/users/${m[1]}`;
    if (!m[2]) return json(res, 200, {'@context': 'https://www.w3.org/ns/activitystreams', id, type: 'Person', preferredUsername: m[1], following: `${id}/following`, followers: `${id}/followers`, inbox: `${id}/inbox`, discoverable: true, indexable: true});
    const follows = (host === names[0] && m[1] === 'seed') ? all.map(([h, n]) => `${base(h)}/users/${n}`) : [];
    const page = u.searchParams.get('page');
    if (!page) return json(res, 200, {'@context': 'https://www.w3.org/ns/activitystreams', id: `${id}/following`, type: 'OrderedCollection', totalItems: follows.length, first: `${id}/following?page=1`});
    const n = +page, size = 40, items = follows.slice((n - 1) * size, n * size);
    const body = {'@context': 'https://www.w3.org/ns/activitystreams', id: `${id}/following?page=${n}`, type: 'OrderedCollectionPage', partOf: `${id}/following`, orderedItems: items};
    if (n * size < follows.length) body.next = `${id}/following?page=${n + 1}`;
    return json(res, 200, body);
  }
  res.writeHead(404); res.end();
});
server.keepAliveTimeout = kat;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => { console.error(`served ${served}`); process.exit(0); });
