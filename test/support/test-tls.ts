// Certificates for HTTPS servers of the tests (a stand-in for github.com): a CA of their own and a
// certificate it signs for the given host names and IP addresses. Nothing here is trusted by the
// gateway unless a test hands it the CA (NODE_EXTRA_CA_CERTS).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface TestTls {
  caPem: string;
  keyPem: string;
  certPem: string;
}

function keys(): { priv: forge.pki.rsa.PrivateKey; pub: forge.pki.PublicKey; pem: string } {
  const p = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return { priv: forge.pki.privateKeyFromPem(p.privateKey) as forge.pki.rsa.PrivateKey, pub: forge.pki.publicKeyFromPem(p.publicKey), pem: p.privateKey };
}

function cert(pub: forge.pki.PublicKey, subject: string, issuer: string, signer: forge.pki.rsa.PrivateKey, ext: any[]): forge.pki.Certificate {
  const c = forge.pki.createCertificate();
  c.publicKey = pub;
  c.serialNumber = '01' + randomBytes(8).toString('hex');
  c.validity.notBefore = new Date(Date.now() - 86_400_000);
  c.validity.notAfter = new Date(Date.now() + 30 * 86_400_000);
  c.setSubject([{ name: 'commonName', value: subject }]);
  c.setIssuer([{ name: 'commonName', value: issuer }]);
  c.setExtensions(ext);
  c.sign(signer, forge.md.sha256.create());
  return c;
}

export function testTls(names: string[]): TestTls {
  const ca = keys();
  const caCert = cert(ca.pub, 'weir test CA', 'weir test CA', ca.priv, [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, critical: true }]);
  const leaf = keys();
  const altNames = names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }));
  const leafCert = cert(leaf.pub, names[0]!, 'weir test CA', ca.priv, [{ name: 'extKeyUsage', serverAuth: true }, { name: 'subjectAltName', altNames }]);
  return { caPem: forge.pki.certificateToPem(caCert), keyPem: leaf.pem, certPem: forge.pki.certificateToPem(leafCert) };
}
