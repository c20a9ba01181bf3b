// Certificates the egress proxy presents for secrets' hosts, signed by the installation's CA: one
// key pair for all of them (made once per proxy: a key per host would cost a key generation per
// new host for no gain, the CA is what the sandbox trusts), one certificate and TLS context per
// host, kept in a bounded map (oldest dropped first).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import forge from 'node-forge';
import type { CaPair } from './ca';

const MAX_HOSTS = 1000;

export class LeafCerts {
  private readonly caCert: forge.pki.Certificate;
  private readonly caKey: forge.pki.PrivateKey;
  private readonly keyPem: string;
  private readonly publicKey: forge.pki.PublicKey;
  private readonly contexts = new Map<string, tls.SecureContext>();

  constructor(ca: CaPair) {
    this.caCert = forge.pki.certificateFromPem(ca.certPem);
    this.caKey = forge.pki.privateKeyFromPem(ca.keyPem);
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    this.keyPem = pair.privateKey;
    this.publicKey = forge.pki.publicKeyFromPem(pair.publicKey);
  }

  /** The TLS context presenting `host`'s certificate (made on first use). */
  context(host: string): tls.SecureContext {
    const h = host.toLowerCase();
    let ctx = this.contexts.get(h);
    if (ctx) return ctx;
    ctx = tls.createSecureContext({ key: this.keyPem, cert: this.issue(h) });
    if (this.contexts.size >= MAX_HOSTS) this.contexts.delete(this.contexts.keys().next().value!);
    this.contexts.set(h, ctx);
    return ctx;
  }

  /** The key and certificate for `host` as PEM (a server of one host: the bench's stand-in). */
  pems(host: string): { key: string; cert: string } {
    return { key: this.keyPem, cert: this.issue(host.toLowerCase()) };
  }

  private issue(host: string): string {
    const cert = forge.pki.createCertificate();
    cert.publicKey = this.publicKey;
    cert.serialNumber = '01' + randomBytes(15).toString('hex');
    cert.validity.notBefore = new Date(Date.now() - 86_400_000);
    cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
    cert.setSubject([{ name: 'commonName', value: host.slice(0, 64) }]);
    cert.setIssuer(this.caCert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [isIP(host) ? { type: 7, ip: host } : { type: 2, value: host }] },
    ]);
    cert.sign(this.caKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
    return forge.pki.certificateToPem(cert);
  }
}
