// A small monitored Node.js app for the end-to-end tests: xprofiler started, an HTTP server answering some
// requests to itself (so http metrics flow), and an error log an agent can tail (ERROR_LOG, appended on SIGUSR2).
'use strict';
const xprofiler = require('xprofiler');
xprofiler.start();
const http = require('http');
const fs = require('fs');

const server = http.createServer((req, res) => {
  const status = req.url === '/missing' ? 404 : 200;
  setTimeout(() => { res.writeHead(status); res.end('ok'); }, 5);
});
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  setInterval(() => {
    http.get({ host: '127.0.0.1', port, path: Math.random() < 0.2 ? '/missing' : '/' }, r => r.resume()).on('error', () => {});
  }, 200);
  // keep some garbage around so gc metrics move
  const junk = [];
  setInterval(() => { junk.push(Buffer.alloc(1024 * 64)); if (junk.length > 200) junk.length = 0; }, 50);
  console.log(JSON.stringify({ ready: true, pid: process.pid, port }));
});

function writeError(msg) {
  if (!process.env.ERROR_LOG) return;
  const ts = new Date().toISOString().replace('T', ' ').replace('Z', '').slice(0, 23).replace('.', ',');
  const err = new TypeError(msg);
  const text = `${ts} ERROR ${process.pid} nodejs.TypeError: ${err.message}\n${err.stack.split('\n').slice(1).join('\n')}\nname: "TypeError"\npid: ${process.pid}\n\n`;
  fs.appendFileSync(process.env.ERROR_LOG, text);
}
process.on('SIGUSR2', () => writeError('e2e error ' + Date.now()));
