// A throwaway certificate authority for TLS tests, made with node-forge (no openssl CLI):
// a CA certificate and a server certificate it signs for the given names.
import forge from 'node-forge'

export interface TestCa {
  caPem: string
  // Issues a certificate for DNS names and IP addresses.
  issue(names: string[]): { certPem: string; keyPem: string }
}

function serial(): string {
  return forge.util.bytesToHex(forge.random.getBytesSync(9)).replace(/^[89a-f]/, '1')
}

function validFor(cert: forge.pki.Certificate): void {
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000)
}

export function createTestCa(commonName = 'ringlay test CA'): TestCa {
  const caKeys = forge.pki.rsa.generateKeyPair(2048)
  const ca = forge.pki.createCertificate()
  ca.publicKey = caKeys.publicKey
  ca.serialNumber = serial()
  validFor(ca)
  const caName = [{ name: 'commonName', value: commonName }]
  ca.setSubject(caName)
  ca.setIssuer(caName)
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ])
  ca.sign(caKeys.privateKey, forge.md.sha256.create())
  return {
    caPem: forge.pki.certificateToPem(ca),
    issue(names) {
      const keys = forge.pki.rsa.generateKeyPair(2048)
      const cert = forge.pki.createCertificate()
      cert.publicKey = keys.publicKey
      cert.serialNumber = serial()
      validFor(cert)
      cert.setSubject([{ name: 'commonName', value: names[0] }])
      cert.setIssuer(ca.subject.attributes)
      const altNames = names.map((n) => (/^[0-9.]+$/.test(n) ? { type: 7, ip: n } : { type: 2, value: n }))
      cert.setExtensions([
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames },
        { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
      ])
      cert.sign(caKeys.privateKey, forge.md.sha256.create())
      return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) }
    },
  }
}
