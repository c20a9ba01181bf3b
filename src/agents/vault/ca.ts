// The installation's certificate authority, which the egress proxy signs the certificates of
// secrets' hosts with and every sandbox trusts. Made once (RSA 2048 by node:crypto, the certificate
// by node-forge: Node makes keys but no certificates), kept in Weir_AgentDefinition with its key
// sealed by the vault key, so every instance and restart presents the same CA. A CA whose key was
// sealed under another vault key cannot be opened: a new one is made (sandboxes get the CA at each
// start, so nothing else has to change).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import type pg from 'pg';
import type { VaultKey } from './crypto';

export interface CaPair {
  certPem: string;
  keyPem: string;
}

const ROW_ID = 'secret_vault-ca';
const YEARS = 10;

export function makeCa(label: string): CaPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + YEARS * 365 * 86_400_000);
  const name = [{ name: 'commonName', value: `Weir egress CA ${label}` }, { name: 'organizationName', value: 'Weir' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const key = forge.pki.privateKeyFromPem(privateKey);
  cert.sign(key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privateKey };
}

/** The installation's CA: read (and opened), or made and stored when there is none or it cannot be opened. */
export async function installationCa(pool: pg.Pool, key: VaultKey, label: string, log: (line: string) => void): Promise<CaPair> {
  const read = async () => (await pool.query<{ spec: { cert: string; key: string; key_id: string } }>(`SELECT spec FROM "Weir_AgentDefinition" WHERE id = $1`, [ROW_ID])).rows[0]?.spec;
  const seal = (ca: CaPair) => JSON.stringify({ cert: ca.certPem, key: key.seal(ca.keyPem), key_id: key.id });
  let spec = await read();
  if (!spec) {
    const ca = makeCa(label);
    await pool.query(`INSERT INTO "Weir_AgentDefinition" (id, kind, name, spec) VALUES ($1, 'secret', 'vault-ca', $2) ON CONFLICT DO NOTHING`, [ROW_ID, seal(ca)]);
    spec = await read();
  }
  try {
    return { certPem: spec!.cert, keyPem: key.open(spec!.key, spec!.key_id, 'the egress CA') };
  } catch (e) {
    log(`vault: ${(e as Error).message}; a new CA is made`);
    const ca = makeCa(label);
    await pool.query(`UPDATE "Weir_AgentDefinition" SET spec = $2, updated_at = CURRENT_TIMESTAMP WHERE id = $1`, [ROW_ID, seal(ca)]);
    return ca;
  }
}
