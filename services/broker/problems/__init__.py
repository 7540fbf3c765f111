"""Problem reports (问题反映): any body raises a coordination problem straight with the provincial
data bureau (the seed's 径向省政务服务数据管理局反映), naming the bodies and requests concerned; the
bureau answers each one once, and the bodies named and the reporter are told."""
