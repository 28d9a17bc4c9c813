// The part of hpack.js (which ships no types) that crid uses.
declare module 'hpack.js' {
  interface DecodedField {
    name: string;
    value: string;
    neverIndex: boolean;
  }
  interface EncodedField {
    name: string;
    value: string;
    neverIndex?: boolean;
    huffman?: boolean;
  }
  interface Decompressor {
    write(block: Buffer): void;
    execute(): void;
    read(): DecodedField | null;
  }
  interface Compressor {
    write(fields: EncodedField[]): void;
    read(): Buffer | null;
  }
  const hpack: {
    decompressor: { create(options: { table: { size: number } }): Decompressor };
    compressor: { create(options: { table: { size: number } }): Compressor };
  };
  export default hpack;
}
