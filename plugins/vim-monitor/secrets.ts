/**
 * VIM secrets (a password, a bearer token) are write-only: a prepare phase moves them out of the
 * entry into `encrypted-secret`, AES-256-GCM under a key derived (scrypt) from the operator's
 * `--vim-monitor-secret-key`, so the clear text is never stored, shown or sent back. Every member
 * of a cluster must be given the same key. Without one, a key derived from a fixed label is used
 * and the plugin warns: the data is then only obscured, not protected.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

export interface Secrets {
  password?: string;
  'bearer-token'?: string;
}

const VERSION = 'v1:';
const SALT = 'sextant-nfv-vim secrets v1';

export class SecretBox {
  private readonly key: Buffer;

  constructor(passphrase: string) {
    this.key = scryptSync(passphrase || 'sextant-default-vim-secret-key', SALT, 32);
  }

  seal(secrets: Secrets): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const body = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    return VERSION + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
  }

  /** The secrets back, or undefined when the text was not sealed with this key. */
  open(text: string | undefined): Secrets | undefined {
    if (!text?.startsWith(VERSION)) return undefined;
    try {
      const raw = Buffer.from(text.slice(VERSION.length), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return JSON.parse(Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8')) as Secrets;
    } catch {
      return undefined;
    }
  }
}
