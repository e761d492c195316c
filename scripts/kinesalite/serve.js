// serve.js runs kinesalite on a free loopback port (or argv[2]) and prints
// "listening <port>" once it accepts connections. Tests start it and kill it
// by PID; it exits by itself when its parent closes stdin.
const kinesalite = require('kinesalite');
const server = kinesalite({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100});
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write('listening ' + server.address().port + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
