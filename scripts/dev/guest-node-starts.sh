# Lab guest script: starts the steering guest command under gdb N times and
# stops at the first crash with its backtrace and the loaded libraries. It is
# how the V8 crash under multi-threaded TCG was found (test/lab/harness/vm.ts).
#   npm run lab:run -- "$(cat scripts/dev/guest-node-starts.sh)"          (25 starts, no crash)
#   LAB_TCG_THREAD=multi npm run lab:run -- "$(cat scripts/dev/guest-node-starts.sh)"   (crashes)
#   npm run lab:run -- "N=50; $(cat scripts/dev/guest-node-starts.sh)"
# Needs gdb on the host (the guest runs the host's root): apt-get install gdb.
set +e
N=${N:-25}
lab_modules
netns_add h
ip link add up0 netns h type veth peer name wire0
ip -n h link set up0 up
cd "$LAB_PROJECT"
mkdir -p /tmp/steer-pins
crashed=0
for i in $(seq 1 "$N"); do
  gdb -q -batch -ex "set pagination off" -ex "handle SIGUSR1 SIGUSR2 SIGPIPE nostop noprint" \
    -ex run -ex "bt 30" -ex "info sharedlibrary" \
    --args node --import tsx test/lab/steer/guest.ts list '{"uplink":"up0","netns":"h","pinRoot":"/tmp/steer-pins"}' > /tmp/gdb.txt 2>&1
  if grep -q SIGSEGV /tmp/gdb.txt; then
    crashed=$i
    grep -A40 SIGSEGV /tmp/gdb.txt
    break
  fi
done
if [ "$crashed" = 0 ]; then echo "no crash in $N starts"; else echo "crashed at start $crashed"; fi
