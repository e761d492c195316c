// serve.js runs kinesalite on a free loopback port (or argv[2]) and prints
// "listening <port>" once it accepts connections. Tests start it and kill it
// by PID; it exits by itself when its parent closes stdin.
const kinesalite = require('kinesalite');
const server = kinesalite({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100});
// A client that hangs up mid-request (a test's fault-injecting proxy, a
// cancelled SDK call) must not take the server down: a reset socket is
// dropped, anything else still ends the process.
server.on('clientError', (err, socket) => socket.destroy());
process.on('uncaughtException', (err) => {
  if (err && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
    process.stderr.write('kinesalite: dropped a connection: ' + err.code + '\n');
    return;
  }
  process.stderr.write('kinesalite: ' + (err && err.stack || err) + '\n');
  process.exit(1);
});
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write('listening ' + server.address().port + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
