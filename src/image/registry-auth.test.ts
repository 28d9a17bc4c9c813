import { describe, expect, it } from 'vitest';
import { credentialsFor, parseChallenge } from './registry-auth.ts';

const auth = (fields: Partial<Record<string, string>>) => ({
  username: '',
  password: '',
  auth: '',
  server_address: '',
  identity_token: '',
  registry_token: '',
  ...fields,
});

describe('parseChallenge', () => {
  it('reads a bearer challenge with quoted values holding commas', () => {
    const c = parseChallenge(
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
    );
    expect(c).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
  });
  it('reads a basic challenge', () => {
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({
      scheme: 'basic',
      params: { realm: 'Registry Realm' },
    });
  });
  it('returns undefined for an empty header', () => {
    expect(parseChallenge('')).toBeUndefined();
  });
});

describe('credentialsFor', () => {
  it('decodes the auth field', () => {
    const b64 = Buffer.from('alice:s3:cret').toString('base64');
    expect(credentialsFor(auth({ auth: b64 }), 'r.example', 'r.example')).toEqual({
      username: 'alice',
      password: 's3:cret',
    });
  });
  it('prefers tokens', () => {
    expect(credentialsFor(auth({ username: 'a', registry_token: 't' }), 'h', 'h')).toEqual({ registryToken: 't' });
    expect(credentialsFor(auth({ identity_token: 'i' }), 'h', 'h')).toEqual({ identityToken: 'i' });
  });
  it('withholds credentials from a host the server_address does not name', () => {
    expect(
      credentialsFor(auth({ username: 'a', server_address: 'https://other.example' }), 'r.example', 'r.example'),
    ).toBeUndefined();
    expect(
      credentialsFor(
        auth({ username: 'a', server_address: 'https://index.docker.io/v1/' }),
        'registry-1.docker.io',
        'docker.io',
      ),
    ).toEqual({ username: 'a', password: '' });
  });
  it('has nothing for an empty auth', () => {
    expect(credentialsFor(auth({}), 'h', 'h')).toBeUndefined();
    expect(credentialsFor(null, 'h', 'h')).toBeUndefined();
  });
});
