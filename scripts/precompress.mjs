// Trunk post_build hook: writes `NAME.br` (brotli, quality 11) and `NAME.gz` (gzip -9) beside
// every compressible file of the staged UI, so the server sends the smallest encoding the
// browser accepts without compressing anything at run time (quality 11 takes seconds on the
// WASM module; the server's own on-the-fly brotli stops at quality 9).
import { readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const dir = process.env.TRUNK_STAGING_DIR || process.argv[2];
if (!dir) {
    console.error("precompress: no TRUNK_STAGING_DIR and no directory argument");
    process.exit(2);
}
const compressible = /\.(wasm|js|css|html|svg|json|txt)$/;

function walk(d) {
    for (const name of readdirSync(d)) {
        const path = join(d, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (compressible.test(name)) compress(path);
    }
}

function compress(path) {
    const data = readFileSync(path);
    const br = brotliCompressSync(data, {
        params: {
            [constants.BROTLI_PARAM_QUALITY]: 11,
            [constants.BROTLI_PARAM_LGWIN]: 24,
            [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
        },
    });
    const gz = gzipSync(data, { level: 9 });
    // A tiny file can grow when compressed: then it is sent as it is.
    if (br.length < data.length) writeFileSync(path + ".br", br);
    if (gz.length < data.length) writeFileSync(path + ".gz", gz);
    if (path.endsWith(".wasm")) {
        console.log(`precompress: ${path.split("/").pop()} ${data.length} bytes, brotli ${br.length}, gzip ${gz.length}`);
    }
}

walk(dir);
