// A stand-in control plane for the container test. It shares its network namespace with the
// executor container, so the executor reaches it on loopback: http://127.0.0.1:9000.
//   POST /api/v1/internal/...   recorded; results answer 201, everything else 200
//   GET  /events                every recorded call, oldest first
import http from 'node:http';

const port = Number(process.env.FAKE_CP_PORT ?? 9000);
const events = [];

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/events') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(events));
      return;
    }
    if (req.method !== 'POST' || !req.url?.startsWith('/api/v1/internal/')) {
      res.writeHead(404).end();
      return;
    }
    let body = null;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = { unparseable: Buffer.concat(chunks).toString('utf8').slice(0, 200) };
    }
    events.push({
      at: new Date().toISOString(),
      path: req.url,
      authorization: req.headers.authorization ?? null,
      idempotency_key: req.headers['idempotency-key'] ?? null,
      body,
    });
    const status = req.url.endsWith('/result') ? 201 : 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
});

server.listen(port, '0.0.0.0', () => process.stdout.write(`fake control plane on :${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
