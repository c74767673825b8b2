#!/bin/sh
# A stand-in analyzer for the runner's tests (job directory protocol); $MODE picks what it does.
out="$1/output"
case "$MODE" in
  big-report) # a 2 MiB output.json
    { printf '{"success":true,"full":"'; head -c 2097152 /dev/zero | tr '\0' 'a'; printf '"}'; } > "$out/output.json" ;;
  noisy) # 5 MB on stdout and on stderr: must not block on full pipes
    head -c 5000000 /dev/zero | tr '\0' 'x'
    head -c 5000000 /dev/zero | tr '\0' 'y' >&2
    echo '{"success":true,"full":{}}' > "$out/output.json" ;;
  fail)
    echo "something on stdout"; echo "boom: no config" >&2; exit 3 ;;
  empty)
    : > "$out/output.json"; echo "nothing to say" >&2 ;;
  invalid)
    echo '{"success": tru' > "$out/output.json" ;;
  files) # only a.txt and b.bin are artifacts
    echo '{"success":true,"full":{}}' > "$out/output.json"
    printf 'A' > "$out/a.txt"; printf 'BB' > "$out/b.bin"
    ln -s /etc/passwd "$out/link"; mkfifo "$out/fifo"; mkdir "$out/sub"; echo x > "$out/sub/inner" ;;
  many)
    echo '{"success":true,"full":{}}' > "$out/output.json"
    for i in 1 2 3 4 5; do echo "$i" > "$out/f$i"; done ;;
  symlink-report)
    ln -s /etc/hostname "$out/output.json" ;;
  escape) # a descendant that leaves the process group and keeps stdout open
    setsid sh -c 'echo $$ > "$1/pid.tmp" && mv "$1/pid.tmp" "$1/pid" && exec sleep 30' sh "$1" &
    while [ ! -s "$1/pid" ]; do sleep 0.01; done
    echo "{\"success\":true,\"full\":{\"pid\":$(cat "$1/pid")}}" > "$out/output.json" ;;
  *) echo "unknown MODE $MODE" >&2; exit 2 ;;
esac
