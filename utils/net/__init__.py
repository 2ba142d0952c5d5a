"""Connections to addresses a user chose: which addresses they may reach, and an HTTP transport
that checks the address it connects to.

addresses.py          the rule: globally routable addresses only, unless the operator allows
                      more (a policy: allow_private, or the host on an allow-list)
guarded_transport.py  an httpx transport that resolves, checks and connects to the checked
                      address, so no later resolution (DNS rebinding) can send it elsewhere
"""
