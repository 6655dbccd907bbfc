import socket,time,sys
P=18304
def go(label, header_drip=False, body_drip_delay=1.0, n=12, stall_after=None):
    s=socket.create_connection(('127.0.0.1',P),timeout=60); t=time.time()
    body=b'{"owner":"' + b'a'*n + b'"}'
    H=f'POST /accounts/commands/open HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n'.encode()
    res=b''
    s.setblocking(True)
    try:
        if header_drip:
            for b in H: s.sendall(bytes([b])); time.sleep(body_drip_delay)
        else:
            s.sendall(H)
        for i,b in enumerate(body):
            if stall_after is not None and i==stall_after: time.sleep(10); 
            s.sendall(bytes([b])); time.sleep(body_drip_delay if not header_drip else 0)
    except Exception as e: res+=f'<<send {e} at {time.time()-t:.1f}>>'.encode()
    s.settimeout(15)
    try:
        while True:
            c=s.recv(65536)
            if not c: break
            res+=c
    except Exception as e: res+=f'<<{e}>>'.encode()
    print(f'[{label}] dt={time.time()-t:.1f} {res[:300]!r}')
go('stall body 10s (idle 3s)', stall_after=3, body_drip_delay=0)
go('drip body 1B/2s, 24B total', body_drip_delay=2.0, n=12)
