import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by the CA. */
export function makeCertificates(dir: string): void {
  const run = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=memberflow test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  for (const who of ['server', 'client']) {
    run(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=memberflow test ${who}`,
      '-keyout',
      `${who}.key`,
      '-out',
      `${who}.csr`,
    );
    run(
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${who}.crt`,
      ...(who === 'server' ? ['-extfile', 'server.ext'] : []),
    );
  }
}
