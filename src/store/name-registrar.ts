import { alreadyExists } from '../errors.ts';

/** Reserves unique names (pod/container name+namespace+uid+attempt) while an object holds them. */
export class NameRegistrar {
  private readonly owners = new Map<string, string>();

  reserve(name: string, ownerId: string): void {
    const owner = this.owners.get(name);
    if (owner !== undefined && owner !== ownerId) {
      throw alreadyExists(`name "${name}" is reserved for ${owner}`);
    }
    this.owners.set(name, ownerId);
  }

  release(name: string): void {
    this.owners.delete(name);
  }

  releaseOwner(ownerId: string): void {
    for (const [name, owner] of this.owners) if (owner === ownerId) this.owners.delete(name);
  }
}
